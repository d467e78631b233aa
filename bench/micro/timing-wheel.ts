/** The shared deadline wheel: scheduling a deadline and cancelling it (what every call does). */
import { TimingWheel, now, type TimerEntry } from 'corpc/internal';
import { measure, type MicroResult } from './measure.ts';

class Entry implements TimerEntry {
  timerExpiresAt = 0;
  timerSlot = -1;
  timerPrev: TimerEntry | null = null;
  timerNext: TimerEntry | null = null;
  onTimer(): void {}
}

export async function main(): Promise<MicroResult[]> {
  const wheel = new TimingWheel();
  const entries = Array.from({ length: 4096 }, () => new Entry());
  // Keep a realistic population in the wheel: 4096 deadlines spread over the next 500 ms.
  const base = now();
  const background = Array.from({ length: 4096 }, () => new Entry());
  background.forEach((entry, i) => {
    wheel.add(entry, base + 10_000 + (i % 500));
  });
  const result = await measure('timing wheel: add + remove one deadline', (i) => {
    const entry = entries[i & 4095]!;
    wheel.add(entry, base + 500);
    wheel.remove(entry);
  });
  for (const entry of background) wheel.remove(entry);
  return [result];
}
