// The port through which capabilities ask for a job to run on a worker (ROLE=all|worker) of any instance.
// Agenda implements it in jobs/; capabilities never see Agenda itself.

/** The jobs of Ringhook by name, as the job store records them. */
export const JOB_NAMES = {
  expirePendingTags: 'expire-pending-tags',
  purgeRetention: 'purge-retention',
  replayPixels: 'replay-pixels',
  notifyOperator: 'notify-operator',
} as const

export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES]

export interface JobScheduler {
  /** stores a job to run as soon as a worker takes it (any instance's, not necessarily this one's) */
  now(name: JobName, data: Record<string, unknown>): Promise<void>
  /** removes the stored jobs of `name` whose data contains `data`; answers how many */
  cancel(name: JobName, data: Record<string, unknown>): Promise<number>
}
