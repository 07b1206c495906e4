/**
 * Group commit: the events of concurrent requests go to the store in shared
 * `store.apply` calls, so SQLite commits one large transaction instead of one per
 * request batch. A request's batch is acknowledged (its promise resolves) once the
 * transaction holding it committed; the server answers 200 only after that.
 *
 * Lifecycle: `submit` any number of times, concurrently; at most `maxInFlight`
 * `store.apply` calls are outstanding. A commit starts on the next turn of the event
 * loop after the first submission (`setImmediate`, or after `maxDelayMs`), so every
 * request whose data arrived in the same turn joins it; while the commits in flight run,
 * new submissions queue for the next one. Commits are acknowledged in the order they
 * were made. `drain` resolves once the queue is empty and no commit is in flight.
 * Nothing is dropped: a failed commit rejects the promise of every batch in it.
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
  /**
   * Commits handed to the store before the first of them is acknowledged. 1 waits for
   * each commit before forming the next; 2 lets the next group be formed and sent while
   * the store writes the current one, which keeps a store in another thread busy.
   * @default 1
   */
  maxInFlight?: number;
  /** Called after each commit, before the submitters are told: where events are published. */
  onCommitted?(entries: readonly CommitEntry<M>[]): void;
  /** Called with each commit's size and duration, for metrics. */
  onCommit?(stats: { events: number; batches: number; seconds: number; ok: boolean }): void;
}

export class GroupCommitter<M> {
  private queue: Pending<M>[] = [];
  private queuedEvents = 0;
  private scheduled = false;
  private inFlight = 0;
  /** Settles when the newest commit handed to the store has been acknowledged. */
  private acknowledged: Promise<void> = Promise.resolve();
  private drained: (() => void)[] = [];

  constructor(
    private readonly store: AudienceStore,
    private readonly options: GroupCommitOptions<M>,
  ) {}

  /** Events submitted and not yet committed (including those of the commits running now). */
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
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= (this.options.maxInFlight ?? 1)) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.dispatch();
    };
    if (this.options.maxDelayMs > 0) setTimeout(run, this.options.maxDelayMs);
    else setImmediate(run);
  }

  /** Takes whole batches from the queue until the group holds `maxEvents` (at least one batch). */
  private take(): { group: Pending<M>[]; n: number } {
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
    return { group: this.queue.splice(0, take), n };
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.inFlight < (this.options.maxInFlight ?? 1)) {
      const { group, n } = this.take();
      this.inFlight++;
      const events = group.length === 1 ? group[0]!.events : group.flatMap((g) => g.events);
      const started = performance.now();
      // A store that throws instead of rejecting fails this commit, not the event loop.
      const applied = Promise.resolve()
        .then(() => this.store.apply(events))
        .then(
          () => undefined,
          (e: unknown) => e ?? new Error('the store failed'),
        );
      const previous = this.acknowledged;
      // Commits are acknowledged and published in the order they were made, whatever
      // order the store answers in, so subscribers see events in commit order.
      this.acknowledged = (async () => {
        const failure = await applied;
        const seconds = (performance.now() - started) / 1000;
        await previous;
        this.queuedEvents -= n;
        this.inFlight--;
        // The hooks must not reject this chain (every later commit awaits it) nor end the
        // process: the events are durable whatever the hooks did.
        try {
          this.options.onCommit?.({ events: n, batches: group.length, seconds, ok: failure === undefined });
        } catch {}
        if (failure === undefined) {
          try {
            this.options.onCommitted?.(group);
          } catch {}
          for (const g of group) g.resolve();
        } else {
          const err = new SluiceError(
            'SLUICE_E_SINK',
            `the store refused a commit: ${(failure as Error)?.message}`,
            { stage: 'sink', cause: failure },
          );
          for (const g of group) g.reject(err);
        }
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0) {
          const waiters = this.drained;
          this.drained = [];
          for (const w of waiters) w();
        }
      })();
    }
  }
}
