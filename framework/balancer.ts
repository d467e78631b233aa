import { InvalidArgumentError } from './errors.ts';

/** What a balancer sees of an endpoint. */
export interface BalancedEndpoint {
  /** Calls in flight to it. */
  readonly inFlight: number;
  /** Share among its peers (SRV weight); equal weights when none was given. */
  readonly weight: number;
}

/**
 * Picks the endpoint for one call among candidates that can take it (connected, and of the best
 * SRV priority available). Called on every call: keep it allocation-free.
 */
export interface Balancer {
  pick<T extends BalancedEndpoint>(candidates: readonly T[]): T;
}

/**
 * Power of two choices (the default): draws two candidates at random (by weight, when weights
 * differ) and takes the one with fewer calls in flight. Nearly as good as "least loaded" without
 * herding every caller onto the same idle endpoint.
 */
export class PowerOfTwoChoices implements Balancer {
  pick<T extends BalancedEndpoint>(candidates: readonly T[]): T {
    const count = candidates.length;
    if (count === 1) return candidates[0]!;
    const total = totalWeight(candidates);
    let first: T;
    let second: T;
    if (total <= 0) {
      // Equal weights: two distinct candidates, uniformly.
      const i = Math.floor(Math.random() * count);
      first = candidates[i]!;
      second = candidates[(i + 1 + Math.floor(Math.random() * (count - 1))) % count]!;
    } else {
      first = draw(candidates, total);
      second = draw(candidates, total);
      for (let tries = 0; second === first && tries < 8; tries++) second = draw(candidates, total);
    }
    // Ties go to the first draw, so at equal load the weights decide.
    return second.inFlight < first.inFlight ? second : first;
  }
}

/** Round robin over the candidates, one after the other (weights are ignored). */
export class RoundRobin implements Balancer {
  private next = 0;

  pick<T extends BalancedEndpoint>(candidates: readonly T[]): T {
    const index = this.next % candidates.length;
    this.next = index + 1;
    return candidates[index]!;
  }
}

export type BalancerName = 'p2c' | 'round-robin';

/** A balancer from its name (each channel gets its own), or the given one. */
export function balancerOption(name: string, value: unknown): Balancer {
  if (value === undefined || value === 'p2c') return new PowerOfTwoChoices();
  if (value === 'round-robin') return new RoundRobin();
  if (typeof value === 'object' && value !== null && typeof (value as Balancer).pick === 'function')
    return value as Balancer;
  throw new InvalidArgumentError(
    `${name} must be "p2c", "round-robin" or an object with a pick(candidates) method, got ${String(value)}`,
  );
}

function totalWeight(candidates: readonly BalancedEndpoint[]): number {
  let total = 0;
  let equal = true;
  const firstWeight = candidates[0]!.weight;
  for (let i = 0; i < candidates.length; i++) {
    const weight = candidates[i]!.weight;
    total += weight;
    if (weight !== firstWeight) equal = false;
  }
  // Equal weights (or all zero): a uniform draw.
  return equal ? 0 : total;
}

function draw<T extends BalancedEndpoint>(candidates: readonly T[], total: number): T {
  let point = Math.random() * total;
  for (let i = 0; i < candidates.length; i++) {
    point -= candidates[i]!.weight;
    if (point < 0) return candidates[i]!;
  }
  return candidates[candidates.length - 1]!;
}
