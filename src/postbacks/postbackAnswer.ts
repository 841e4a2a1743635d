import type { Postback } from '../generated/prisma/client.js'
import { REFUSING_PROBLEMS, type PostbackProblem } from './parsePostback.js'
import { OUTCOME_WORDS, type PostbackAnswer, type PostbackOutcome } from './postbackWriter.js'

/**
 * The answer a logged postback was given, rebuilt from its columns (the full answer is stored only for
 * postbacks with an Idempotency-Key, which may have to replay it).
 */
export function postbackAnswerOf(p: Postback & { call?: { uuid: string } | null }): PostbackAnswer {
  const outcome = p.outcome as PostbackOutcome
  const problems = (p.problems as unknown as PostbackProblem[] | null) ?? []
  const answer: PostbackAnswer = {
    httpStatus: p.httpStatus,
    outcome,
    status: outcome === 'REJECTED' ? 'rejected' : OUTCOME_WORDS[outcome],
    postbackId: p.id,
    callUuid: outcome === 'CALL_FOUND' || outcome === 'COMPLETED_CALL_FOUND' ? (p.call?.uuid ?? null) : null,
    callerNumber: p.callerNumber,
    tags: (p.tags as Record<string, string> | null) ?? {},
    problems,
  }
  const refusal = problems.find((problem) => REFUSING_PROBLEMS.has(problem.code))
  if (outcome === 'REJECTED' && refusal) answer.error = refusal.message
  return answer
}
