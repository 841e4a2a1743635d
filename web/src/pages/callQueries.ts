// The call log's and the call overview's queries, in a module of their own so the dashboard benchmark
// (bench/dashboard.ts) times exactly what the pages send.
import { graphql } from '../graphql.ts'

export const CallsQuery = graphql(`
  query CallLog($first: Int, $after: String, $last: Int, $before: String, $filter: CallFilter) {
    calls(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      edges {
        node {
          id
          uuid
          callerNumber
          calledNumber
          status
          startedAt
          durationSeconds
          converted
          campaign {
            id
            name
          }
          pixelSummary {
            count
            succeeded
            failed
            pending
            cancelled
          }
          pixels {
            id
            status
            trigger
            webhook {
              id
              name
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`)

export const CallQuery = graphql(`
  query CallOverview($uuid: String!) {
    call(uuid: $uuid) {
      id
      uuid
      callerNumber
      calledNumber
      status
      startedAt
      answeredAt
      endedAt
      durationSeconds
      converted
      convertedAt
      campaign {
        id
        name
      }
      tags {
        key
        value
        source
        sourceId
        createdAt
        updatedAt
      }
      postbackCount
      postbacks {
        id
        createdAt
        outcome
        channel
        tags
      }
      pixels {
        id
        trigger
        status
        createdAt
        completedAt
        responseNote
        webhook {
          id
          name
        }
        attempts {
          number
          startedAt
          durationMs
          statusCode
          error
        }
      }
      webhookEvaluations {
        webhook {
          id
          name
        }
        trigger
        fired
        reason
        pixel {
          id
          status
        }
        failedConditions {
          group
          condition
          key
          operator
          expected
          actual
        }
      }
    }
  }
`)
