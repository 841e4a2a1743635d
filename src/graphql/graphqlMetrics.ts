// GraphQL metrics through yoga's Prometheus plugin, on the app's registry, named ringhook_graphql_*: operations,
// their phases and errors, by operation type and name. An operation name is the client's choice, sent before
// any key is checked, so the names a label takes are bounded (the first ones seen, cut short; later ones read
// "(other)"). No per-resolver metrics (a cost on every field), no URL label (a GET carries its query in it),
// no error path label (it holds list indexes); /metrics is served by the HTTP server, not the plugin.
import { createCounter, createHistogram, usePrometheus, type FillLabelsFnParams } from '@graphql-yoga/plugin-prometheus'
import type { Plugin } from 'graphql-yoga'
import type { Metrics } from '../core/metrics.js'

/** distinct operation names a label takes, per app */
const MAX_OPERATION_NAMES = 200
const MAX_OPERATION_NAME_CHARS = 100

/** Operation names as labels: each name seen while there is room, then "(other)". */
function boundedNames(): (name: string | undefined) => string {
  const seen = new Set<string>()
  return (name) => {
    if (!name) return 'Anonymous'
    const cut = name.slice(0, MAX_OPERATION_NAME_CHARS)
    if (seen.has(cut)) return cut
    if (seen.size >= MAX_OPERATION_NAMES) return '(other)'
    seen.add(cut)
    return cut
  }
}

const OPERATION_LABELS = ['operationType', 'operationName'] as const

export function useGraphqlMetrics(metrics: Metrics): Plugin {
  const registry = metrics.registry
  const nameOf = boundedNames()
  const operation = (params: FillLabelsFnParams) => ({ operationType: params.operationType ?? 'unknown', operationName: nameOf(params.operationName) })
  // each metric names the phases it observes: the plugin's types check them against the metric
  const histogram = <Phase extends string>(name: string, help: string, phases: [Phase, ...Phase[]]) =>
    createHistogram({ registry, histogram: { name, help, labelNames: OPERATION_LABELS }, fillLabelsFn: operation, phases })
  return usePrometheus({
    registry,
    endpoint: false,
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'ringhook_graphql_requests_total', help: 'GraphQL operations executed or subscribed, failed or not.', labelNames: OPERATION_LABELS },
        fillLabelsFn: operation,
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_request_duration: histogram('ringhook_graphql_request_duration_seconds', 'Time spent on a GraphQL operation, parse to result.', [
        'execute',
        'subscribe',
      ]),
      graphql_envelop_phase_parse: histogram('ringhook_graphql_parse_duration_seconds', 'Time spent parsing the GraphQL document.', ['parse']),
      graphql_envelop_phase_validate: histogram('ringhook_graphql_validate_duration_seconds', 'Time spent validating the GraphQL document.', ['validate']),
      graphql_envelop_phase_context: histogram('ringhook_graphql_context_duration_seconds', 'Time spent building the context (the API key check).', [
        'context',
      ]),
      graphql_envelop_phase_execute: histogram('ringhook_graphql_execute_duration_seconds', 'Time spent executing the operation.', ['execute']),
      graphql_envelop_phase_subscribe: histogram('ringhook_graphql_subscribe_duration_seconds', 'Time spent starting a subscription.', ['subscribe']),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'ringhook_graphql_errors_total',
          help: 'Errors in GraphQL results, by the phase they came from.',
          labelNames: [...OPERATION_LABELS, 'phase'],
        },
        fillLabelsFn: (params) => ({ ...operation(params), phase: params.errorPhase ?? 'unknown' }),
        phases: ['parse', 'validate', 'context', 'execute', 'subscribe'],
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'ringhook_graphql_http_duration_seconds',
          help: 'Time spent on GraphQL HTTP requests, by method and status.',
          labelNames: [...OPERATION_LABELS, 'method', 'statusCode'],
        },
        fillLabelsFn: (params, context: { request: Request; response: Response }) => ({
          ...operation(params),
          method: context.request.method,
          statusCode: context.response.status,
        }),
        phases: ['request'],
      }),
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  })
}
