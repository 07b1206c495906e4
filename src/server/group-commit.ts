/**
 * Group commit: the events of concurrent requests go to the store in shared
 * `store.apply` calls, so SQLite commits one large transaction instead of one per
 * request batch. A request's batch is acknowledged (its promise resolves) once the
 * transaction holding it committed; the server answers 200 only after that.
 *
 * Lifecycle: `submit` any number of times, concurrently; at most one `store.apply`
 * runs at a time. A commit starts on the next turn of the event loop after the first
 * submission (`setImmediate`, or after `maxDelayMs`), so every request whose data
 * arrived in the same turn joins it; while a commit runs, new submissions queue for
 * the next one. `drain` resolves once the queue is empty. Nothing is dropped: a
 * failed commit rejects the promise of every batch in it.
 */
import type { SegmentEvent } from '../audience/segment-event.js';
import type { AudienceStore } from '../audience/store/index.js';
import { SluiceError } from '../core/errors.js';

export interface CommitEntry<M> {
  events: readonly SegmentEvent[];
  /** Whatever the submitter attaches (the region, the time of receipt), handed to `onCommitted`. */
  meta: M;
}

interface Pending<M> extends CommitEntry<M> {
  resolve(): void;
  reject(e: unknown): void;
}

export interface GroupCommitOptions<M> {
  /** A commit takes whole batches until it holds at least this many events. */
  maxEvents: number;
  /** Wait this long after the first submission before committing (0: the next event-loop turn). */
  maxDelayMs: number;
  /** Called after each commit, before the submitters are told: where events are published. */
  onCommitted?(entries: readonly CommitEntry<M>[]): void;
  /** Called with each commit's size and duration, for metrics. */
  onCommit?(stats: { events: number; batches: number; seconds: number; ok: boolean }): void;
}

export class GroupCommitter<M> {
  private queue: Pending<M>[] = [];
  private queuedEvents = 0;
  private scheduled = false;
  private running = false;
  private drained: (() => void)[] = [];

  constructor(
    private readonly store: AudienceStore,
    private readonly options: GroupCommitOptions<M>,
  ) {}

  /** Events submitted and not yet committed (including those of the commit running now). */
  get depth(): number {
    return this.queuedEvents;
  }

  /** Resolves once `events` are durable; rejects with `SLUICE_E_SINK` when the store refused them. */
  submit(events: readonly SegmentEvent[], meta: M): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, meta, resolve, reject });
      this.queuedEvents += events.length;
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or being committed. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.run();
    };
    if (this.options.maxDelayMs > 0) setTimeout(run, this.options.maxDelayMs);
    else setImmediate(run);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        let n = 0;
        let take = 0;
        while (take < this.queue.length && (take === 0 || n < this.options.maxEvents)) {
          n += this.queue[take]!.events.length;
          take++;
        }
        // A batch that would overshoot is kept for the next commit, unless it is the first.
        if (take > 1 && n > this.options.maxEvents) {
          take--;
          n -= this.queue[take]!.events.length;
        }
        const group = this.queue.splice(0, take);
        const events = group.length === 1 ? group[0]!.events : group.flatMap((g) => g.events);
        const started = performance.now();
        let ok = false;
        try {
          await this.store.apply(events);
          ok = true;
        } catch (e) {
          const err = new SluiceError(
            'SLUICE_E_SINK',
            `the store refused a commit: ${(e as Error)?.message}`,
            {
              stage: 'sink',
              cause: e,
            },
          );
          for (const g of group) g.reject(err);
        } finally {
          this.queuedEvents -= n;
          this.options.onCommit?.({
            events: n,
            batches: group.length,
            seconds: (performance.now() - started) / 1000,
            ok,
          });
        }
        if (ok) {
          try {
            this.options.onCommitted?.(group);
          } finally {
            for (const g of group) g.resolve();
          }
        }
        // Let the network be read before the next commit, so it has more to carry.
        if (this.queue.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
      const waiters = this.drained;
      this.drained = [];
      for (const w of waiters) w();
    }
  }
}
