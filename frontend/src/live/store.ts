import type { LiveEvent } from '../api/types';
import { initialLiveState, liveReducer, type LiveAction, type LiveState } from './reducer';

type Listener = () => void;
type EventListener = (event: LiveEvent) => void;

/** Holds the live state for useSyncExternalStore and fans events out to subscribers. */
export class LiveStore {
  private state: LiveState = initialLiveState;
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Set<EventListener>();

  getState = (): LiveState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  subscribeToEvents(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => {
      this.eventListeners.delete(listener);
    };
  }

  dispatch(action: LiveAction): void {
    const next = liveReducer(this.state, action);
    if (action.type === 'event') {
      for (const listener of this.eventListeners) {
        listener(action.event);
      }
    }
    if (next === this.state) {
      return;
    }
    this.state = next;
    for (const listener of this.listeners) {
      listener();
    }
  }
}
