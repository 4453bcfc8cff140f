"""Failed sign-ins are throttled per email and address, so a known email cannot be locked out.

These run against a real uvicorn, which takes the client address from X-Forwarded-For when
the connection comes from 127.0.0.1, as behind a reverse proxy.
"""

from __future__ import annotations

import aiohttp

EMAIL = "ops@example.com"
PASSWORD = "correct horse battery"


async def sign_up(http: aiohttp.ClientSession, origin: str) -> None:
    async with http.post(
        f"{origin}/api/v1/auth/signup", json={"email": EMAIL, "password": PASSWORD}
    ) as response:
        assert response.status == 201, await response.text()


async def sign_in(
    http: aiohttp.ClientSession, origin: str, address: str, password: str = PASSWORD
) -> int:
    async with http.post(
        f"{origin}/api/v1/auth/login",
        json={"email": EMAIL, "password": password},
        headers={"X-Forwarded-For": address},
    ) as response:
        return response.status


async def test_throttle_spares_other_addresses(live_server: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        await sign_up(http, live_server)
        for _ in range(5):
            assert await sign_in(http, live_server, "198.51.100.7", "wrong password") == 401

        attacker = await sign_in(http, live_server, "198.51.100.7")
        operator = await sign_in(http, live_server, "203.0.113.9")

    assert attacker == 429
    assert operator == 200


async def test_throttle_limits_guesses_from_many_addresses(live_server: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        await sign_up(http, live_server)
        for number in range(50):
            address = f"198.51.100.{number + 1}"
            assert await sign_in(http, live_server, address, "wrong password") == 401

        spread = await sign_in(http, live_server, "203.0.113.9")

    assert spread == 429
