import { BODY_TYPES, HTTP_METHODS, MATCH_OPERATORS, PIXEL_TRIGGERS, WEBHOOK_TRIGGERS } from '../webhooks/webhookConfig.js'
import { builder } from './builder.js'

export const WebhookTriggerEnum = builder.enumType('WebhookTrigger', {
  description: 'The call event a webhook fires on. TIMER fires timerSeconds into the answered call.',
  values: WEBHOOK_TRIGGERS,
})
export const PixelTriggerEnum = builder.enumType('PixelTrigger', {
  description: "What made a pixel: its webhook's trigger, RESEND (delivered again) or TEST (a test-fire).",
  values: PIXEL_TRIGGERS,
})
export const HttpMethodEnum = builder.enumType('HttpMethod', { values: HTTP_METHODS })
export const BodyTypeEnum = builder.enumType('BodyType', { values: BODY_TYPES })
export const MatchOperatorEnum = builder.enumType('MatchOperator', { values: MATCH_OPERATORS })
export const CallStatusEnum = builder.enumType('CallStatus', { values: ['STARTED', 'ANSWERED', 'ENDED'] as const })
export const ApiKeyRoleEnum = builder.enumType('ApiKeyRole', {
  description: 'ADMIN keys use the GraphQL API; PUBLISHER keys may only send postbacks.',
  values: ['ADMIN', 'PUBLISHER'] as const,
})
export const TagSourceEnum = builder.enumType('TagSource', { values: ['POSTBACK', 'WEBHOOK', 'CALL_EVENT', 'API'] as const })
export const PixelStatusEnum = builder.enumType('PixelStatus', { values: ['PENDING', 'DELIVERING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const })
export const PostbackOutcomeEnum = builder.enumType('PostbackOutcome', {
  values: ['CALL_FOUND', 'COMPLETED_CALL_FOUND', 'TAGS_STORED', 'REJECTED'] as const,
})

export const TagInputRef = builder.inputType('TagInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    value: t.string({ required: true }),
  }),
})
