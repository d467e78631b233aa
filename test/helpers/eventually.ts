/** Polls `check` (every 20 ms, up to `tries` times) until it returns true; then fails naming `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, tries = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}
