import { InvalidArgumentError } from '../errors.ts';
import { integerOption, numberOption } from '../options.ts';
import { USER_LEVELS } from '../priority.ts';
import { CodelPolicy } from './codel-policy.ts';
import { DagorPolicy } from './dagor-policy.ts';
import { NonePolicy } from './none-policy.ts';
import type { AdmissionPolicy } from './policy.ts';
import { RandomPolicy } from './random-policy.ts';
import { SedaPolicy } from './seda-policy.ts';

/** The built-in policies (see docs/overload-control.md for what each one does). */
export const POLICY_NAMES = ['none', 'random', 'codel', 'seda', 'dagor-rt', 'dagor-local', 'dagor'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Overloaded when a window's average queuing time is above this, by default (the paper's figure). */
export const QUEUING_THRESHOLD_MS = 20;

/** Tuning of the built-in policies; every field has the design's default. */
export interface PolicyOptions {
  /** Overloaded when a window's average queuing time is above this. Default 20 ms. */
  queuingThresholdMs?: number;
  /** `dagor-rt`: overloaded when a window's average response time is above this. Default 100 ms. */
  responseThresholdMs?: number;
  /** Fraction of the load shed per overloaded window. Default 0.05. */
  alpha?: number;
  /** Fraction of load admitted more per calm window. Default 0.01. */
  beta?: number;
  /** DAGOR: largest raise, in compound levels, when the histogram cannot see above the level. Default 128. */
  maxRaiseLevels?: number;
  /** `codel`: target queue sojourn time. Default 5 ms. */
  codelTargetMs?: number;
  /** `codel`: interval. Default 100 ms. */
  codelIntervalMs?: number;
  /** `seda`: target 90th-percentile response time. Default 100 ms. */
  sedaTargetMs?: number;
}

/** A built-in policy by name, its options validated by name. */
export function createPolicy(name: PolicyName, options: PolicyOptions = {}): AdmissionPolicy {
  const queuingThresholdMs = numberOption(
    'admission.queuingThresholdMs',
    options.queuingThresholdMs,
    QUEUING_THRESHOLD_MS,
    0,
  );
  const responseThresholdMs = numberOption('admission.responseThresholdMs', options.responseThresholdMs, 100, 0);
  const alpha = numberOption('admission.alpha', options.alpha, 0.05, 0.001, 0.9);
  const beta = numberOption('admission.beta', options.beta, 0.01, 0.001, 1);
  const maxRaiseLevels = integerOption('admission.maxRaiseLevels', options.maxRaiseLevels, USER_LEVELS, 1);
  const codelTargetMs = numberOption('admission.codelTargetMs', options.codelTargetMs, 5, 0);
  const codelIntervalMs = numberOption('admission.codelIntervalMs', options.codelIntervalMs, 100, 1);
  const sedaTargetMs = numberOption('admission.sedaTargetMs', options.sedaTargetMs, 100, 1);
  const dagor = { queuingThresholdMs, responseThresholdMs, alpha, beta, maxRaiseLevels };
  switch (name) {
    case 'none':
      return new NonePolicy();
    case 'random':
      return new RandomPolicy(queuingThresholdMs, alpha, beta);
    case 'codel':
      return new CodelPolicy(codelTargetMs, codelIntervalMs);
    case 'seda':
      return new SedaPolicy(sedaTargetMs);
    case 'dagor-rt':
      return new DagorPolicy(name, { ...dagor, detection: 'response', advertise: true });
    case 'dagor-local':
      return new DagorPolicy(name, { ...dagor, detection: 'queuing', advertise: false });
    case 'dagor':
      return new DagorPolicy(name, { ...dagor, detection: 'queuing', advertise: true });
    default:
      throw new InvalidArgumentError(
        `admission.policy must be one of ${POLICY_NAMES.join(', ')} or a policy object, got ${JSON.stringify(name)}`,
      );
  }
}
