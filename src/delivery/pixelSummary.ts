// Pixels by status, as the call log's "Pixels Fired" column and a bulk replay's progress show them.

export interface PixelSummary {
  count: number
  succeeded: number
  failed: number
  /** waiting for a first attempt, a retry, their circuit, or in flight */
  pending: number
  cancelled: number
}

/** The summary of pixel counts by status. */
export function summarisePixels(counts: Iterable<{ status: string; n: number }>): PixelSummary {
  const summary: PixelSummary = { count: 0, succeeded: 0, failed: 0, pending: 0, cancelled: 0 }
  for (const { status, n } of counts) {
    summary.count += n
    if (status === 'SUCCEEDED') summary.succeeded += n
    else if (status === 'FAILED') summary.failed += n
    else if (status === 'CANCELLED') summary.cancelled += n
    else summary.pending += n
  }
  return summary
}
