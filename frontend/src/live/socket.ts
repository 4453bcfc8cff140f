import type { LiveEvent } from '../api/types';
import { parseLiveFrame, type ConnectionStatus } from './reducer';

export const LIVE_PATH = '/api/v1/live';

const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export function liveUrl(origin: string = window.location.origin): string {
  return `${origin.replace(/^http/, 'ws')}${LIVE_PATH}`;
}

/**
 * Returns the wait in milliseconds before reconnect attempt `attempt`, counted from 0. The
 * delay doubles from 1 s up to 30 s. Jitter picks a value between half and the full delay,
 * so that many open dashboards do not all reconnect at once after a server restart.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface LiveSocketOptions {
  url: string;
  onEvent: (event: LiveEvent) => void;
  onStatus: (status: ConnectionStatus) => void;
  /**
   * Runs before a reconnect that follows a failed handshake. The browser hides the
   * handshake's HTTP status, and an expired access token is the usual cause, so the app
   * uses this to refresh the session.
   */
  beforeReconnect?: () => Promise<unknown>;
  createSocket?: (url: string) => WebSocket;
}

/** One WebSocket to the live endpoint that reconnects with backoff until stopped. */
export class LiveSocket {
  private readonly options: LiveSocketOptions;
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = true;
  private opened = false;

  constructor(options: LiveSocketOptions) {
    this.options = options;
  }

  start(): void {
    if (!this.stopped) {
      return;
    }
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close(1000, 'Dashboard closed');
    }
    this.options.onStatus('idle');
  }

  private connect(): void {
    this.options.onStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    this.opened = false;

    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    const socket = create(this.options.url);
    this.socket = socket;

    socket.onopen = () => {
      this.opened = true;
      this.attempt = 0;
      this.options.onStatus('open');
    };
    socket.onmessage = (message: MessageEvent) => {
      if (typeof message.data !== 'string') {
        return;
      }
      for (const event of parseLiveFrame(message.data)) {
        this.options.onEvent(event);
      }
    };
    socket.onclose = () => {
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) {
      return;
    }
    const handshakeFailed = !this.opened;
    this.options.onStatus('reconnecting');

    const delay = reconnectDelay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reconnect(handshakeFailed);
    }, delay);
  }

  private async reconnect(handshakeFailed: boolean): Promise<void> {
    if (handshakeFailed && this.options.beforeReconnect !== undefined) {
      try {
        await this.options.beforeReconnect();
      } catch {
        // The next attempt fails the same way and backs off further.
      }
    }
    if (!this.stopped) {
      this.connect();
    }
  }
}
