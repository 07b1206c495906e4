/**
 * BROKEN ON PURPOSE: `time<TAB>message` lines, where an empty time means "the same
 * time as the line before" (fill-down). That is state carried from record to record,
 * yet the format does not say `parallel: false`: a worker starting mid-file has no
 * previous line. The parallel-invariance law fails; every other law passes, because
 * one tokenizer over a whole input is perfectly consistent.
 */
import fc from 'fast-check';
import { defineFormat, SluiceError } from 'sluice';

export default defineFormat({
  name: 'filldown',
  description: 'time TAB message; an empty time repeats the previous line',
  mediaTypes: [],
  extensions: ['filldown'],
  // BUG: no `parallel: false`, so the format claims to be parallel-safe.
  tokenizer: () => {
    let last = 0;
    return {
      tokenize(record, at, out) {
        const tab = record.indexOf('\t');
        if (tab === -1) {
          throw new SluiceError('SLUICE_E_PARSE', 'expected time TAB message', {
            stage: 'tokenize',
            position: { ...at },
          });
        }
        const time = record.slice(0, tab);
        if (time !== '') {
          if (!/^\d{1,15}$/.test(time)) {
            throw new SluiceError('SLUICE_E_PARSE', `bad time ${JSON.stringify(time)}`, {
              stage: 'tokenize',
              position: { ...at },
            });
          }
          last = Number(time);
        }
        out.push({ time: last, message: record.slice(tab + 1) });
      },
    };
  },
  serializer: () => ({ serialize: (t) => `${t.time}\t${t.message}` }),
});

export const samples = ['100\tstarted\n\tstill starting\n\tready\n200\tfirst request\n\tanswered\n'];

export const arbitrary = fc.record({
  time: fc.nat(),
  message: fc.string({ maxLength: 12 }).filter((s) => !/[\r\n]/.test(s)),
});
