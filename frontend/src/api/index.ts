import { ApiClient } from './client';

export { ApiClient } from './client';
export { ApiError, errorMessage } from './errors';
export type * from './types';

/** The client every feature uses. The app sets its session-expired handler at start-up. */
export const api = new ApiClient();
