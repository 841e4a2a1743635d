// The dashboard's reads that bench/dashboard.ts times: the very documents the call log and the call
// overview send (web/src/pages/callQueries.ts), as text.
import { print } from 'graphql'
import { CallQuery, CallsQuery } from '../web/src/pages/callQueries.ts'

export const CALL_LOG = print(CallsQuery as never)
export const CALL_OVERVIEW = print(CallQuery as never)
