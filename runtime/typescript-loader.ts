/**
 * `node --import corpc/dist/runtime/typescript-loader.js`: registers typescript-hooks.ts, so that
 * this process, the workers it forks (they inherit the flag) and its worker threads load `.ts`.
 * runtime/bin/corpc.js starts the built CLI with it; inside this repository tsx does the same job.
 */
import { register } from 'node:module';

register('./typescript-hooks.js', import.meta.url);
