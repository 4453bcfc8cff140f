import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';

import { MainNav } from './MainNav';

function renderNav() {
  render(
    <MemoryRouter initialEntries={['/']}>
      <MainNav />
    </MemoryRouter>,
  );
  return screen.getByRole('button', { name: 'Menu' });
}

describe('MainNav', () => {
  it('opens the menu and closes it after navigating', async () => {
    const toggle = renderNav();
    expect(toggle).toHaveAttribute('aria-expanded', 'false');

    await userEvent.click(toggle);
    expect(screen.getByRole('button', { name: 'Close' })).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByRole('navigation', { name: 'Main' })).toHaveClass('app-nav--open');

    await userEvent.click(screen.getByRole('link', { name: 'Batches' }));
    expect(screen.getByRole('button', { name: 'Menu' })).toHaveAttribute('aria-expanded', 'false');
    expect(screen.getByRole('navigation', { name: 'Main' })).not.toHaveClass('app-nav--open');
  });

  it('closes the menu on Escape', async () => {
    await userEvent.click(renderNav());

    await userEvent.keyboard('{Escape}');

    expect(screen.getByRole('button', { name: 'Menu' })).toHaveAttribute('aria-expanded', 'false');
  });

  it('marks the current page link', () => {
    renderNav();

    expect(screen.getByRole('link', { name: 'Dashboard' })).toHaveClass('app-nav__link--active');
    expect(screen.getByRole('link', { name: 'Templates' })).not.toHaveClass('app-nav__link--active');
  });
});
