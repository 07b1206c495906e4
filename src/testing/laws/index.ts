/** Every law, in the order they run: the cheapest and most basic first. */
import { framingLaw } from './framing.js';
import { noRecordDroppedLaw } from './no-record-dropped.js';
import { parallelLaw } from './parallel.js';
import { purityLaw } from './purity.js';
import { robustnessLaw } from './robustness.js';
import { roundTripLaw } from './round-trip.js';
import type { LawDefinition, LawId } from './types.js';

export const LAWS: readonly LawDefinition[] = [
  robustnessLaw,
  framingLaw,
  purityLaw,
  roundTripLaw,
  noRecordDroppedLaw,
  parallelLaw,
];

export const LAW_IDS: readonly LawId[] = LAWS.map((l) => l.id);

export function isLawId(s: string): s is LawId {
  return (LAW_IDS as readonly string[]).includes(s);
}
