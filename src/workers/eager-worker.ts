/**
 * A BullMQ worker that starts each job the moment it is fetched.
 *
 * BullMQ's worker fetches jobs one after another until it holds as many as its concurrency
 * or finds the queue empty, and hands them to the processor only when that fetching stops.
 * When jobs arrive one by one (child jobs added by rollouts as they start, rollouts freed by
 * their last child), every fetch finds one more, so the first jobs wait for the last: an
 * expert pool of concurrency 64 fed by an orchestrator starting rollouts held its first 64
 * calls for ~100 ms at the start of each sweep, two requests at the endpoint meanwhile.
 *
 * Here the processor is started as soon as a job is fetched (through `createJob`, BullMQ's
 * hook for every job it fetches), and BullMQ's own processing of the job (lock renewal,
 * completion or failure, the next job) waits for that same run instead of starting another.
 * BullMQ processes every job it fetched, also while closing, so no early run is left
 * without its completion; a job BullMQ would fail without running (a deferred failure) is
 * not started early.
 *
 * Used by the expert pools, whose jobs hold an endpoint's capacity: there a job that waits
 * idles a slot of the endpoint. Orchestrators and scorers keep BullMQ's own worker: started
 * early, their jobs cost more than they gain (in the direct-peer bench, an eager orchestrator
 * used ~0.08 ms more CPU and ~0.015 ms more Redis per rollout, with more socket writes, for
 * the same wall time).
 */
import { type Job, type JobJson, Worker } from 'bullmq';

/** A job whose run BullMQ took before it was started early (it must not start twice). */
const TAKEN = Symbol('taken');

export class EagerWorker<D = unknown, R = unknown> extends Worker<D, R> {
  /** Runs started at fetch time, until BullMQ takes them. */
  private readonly runs = new WeakMap<Job<D, R>, Promise<R> | typeof TAKEN>();

  protected override createJob(data: JobJson, jobId: string): Job<D, R> {
    const job = super.createJob(data, jobId);
    // BullMQ sets the job's token right after this returns (same turn).
    queueMicrotask(() => {
      if (this.runs.has(job) || !job.token || this.failsUnrun(job)) return;
      const run = super.callProcessJob(job, job.token);
      run.catch(() => {}); // its error is BullMQ's to handle when it takes the run
      this.runs.set(job, run);
    });
    return job;
  }

  protected override callProcessJob(job: Job<D, R>, token: string, signal?: AbortSignal): Promise<R> {
    const run = this.runs.get(job);
    this.runs.set(job, TAKEN);
    return run && run !== TAKEN ? run : super.callProcessJob(job, token, signal);
  }

  /** A job BullMQ fails without running its processor (see Worker.processJob). */
  private failsUnrun(job: Job<D, R>): boolean {
    const max = this.opts.maxStartedAttempts;
    return Boolean(job.deferredFailure) || Boolean(max && max < job.attemptsStarted);
  }
}
