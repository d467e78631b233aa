import { InvalidArgumentError } from './errors.ts';

/**
 * Priorities as DAGOR defines them (see docs/overload-control.md): a business
 * priority B decided at the entry service from the action, a user priority U from a keyed hash
 * of the user id, and the compound level L = B * USER_LEVELS + U. Lower numbers are more
 * important; a worker admits a request iff L <= its admission level.
 */

/** Business priority levels, 0 (most important) .. 63 (least). */
export const BUSINESS_LEVELS = 64;
/** User priority levels, 0 .. 127, as in the paper. */
export const USER_LEVELS = 128;
/** The least important business priority: actions not in an entry's table get it. */
export const LOWEST_BUSINESS_PRIORITY = BUSINESS_LEVELS - 1;
export const LOWEST_USER_PRIORITY = USER_LEVELS - 1;
/** The admission level that admits every request. */
export const ADMIT_ALL = BUSINESS_LEVELS * USER_LEVELS - 1;

export function compoundLevel(business: number, user: number): number {
  return business * USER_LEVELS + user;
}

export function businessOf(level: number): number {
  return Math.floor(level / USER_LEVELS);
}

export function userOf(level: number): number {
  return level % USER_LEVELS;
}

export function isBusinessPriority(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < BUSINESS_LEVELS;
}

export function isUserPriority(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < USER_LEVELS;
}

export function checkBusinessPriority(name: string, value: unknown): number | undefined {
  if (value === undefined || isBusinessPriority(value)) return value;
  throw new InvalidArgumentError(`${name} must be an integer in 0..${BUSINESS_LEVELS - 1}, got ${String(value)}`);
}

export function checkUserPriority(name: string, value: unknown): number | undefined {
  if (value === undefined || isUserPriority(value)) return value;
  throw new InvalidArgumentError(`${name} must be an integer in 0..${USER_LEVELS - 1}, got ${String(value)}`);
}
