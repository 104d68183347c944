// test/helpers/track.ts
// Watches a promise so a test can ask, after letting callbacks run, whether it has settled yet.

export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  readonly fulfilled: boolean;
  readonly rejected: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const state = {
    promise,
    settled: false,
    fulfilled: false,
    rejected: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
  };
  promise.then(
    (value) => {
      state.settled = true;
      state.fulfilled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.rejected = true;
      state.error = error;
    },
  );
  return state;
}
