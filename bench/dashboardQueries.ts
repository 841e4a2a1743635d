// The dashboard's reads that bench/dashboard.ts times (until the dashboard's own operations replace them).
export const CALL_LOG = `query CallLog($first: Int, $after: String, $filter: CallFilter) {
  calls(first: $first, after: $after, filter: $filter) {
    edges { cursor node { uuid callerNumber status startedAt durationSeconds converted campaign { id name }
      pixelSummary { count succeeded failed pending cancelled } } }
    pageInfo { hasNextPage endCursor }
  }
}`

export const CALL_OVERVIEW = `query CallOverview($uuid: String!) {
  call(uuid: $uuid) {
    uuid callerNumber calledNumber status startedAt answeredAt endedAt durationSeconds converted convertedAt
    campaign { id name }
    tags { key value source createdAt }
    pixels { id trigger status createdAt completedAt responseNote webhook { id name } attempts { number statusCode durationMs error } }
    webhookEvaluations { webhook { id name } trigger fired reason failedConditions { key operator expected actual } pixel { id status } }
  }
}`
