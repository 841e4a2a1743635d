import { lexicographicSortSchema } from 'graphql'
import { builder } from './builder.js'
import './company.js'
import './apiKey.js'
import './campaign.js'
import './call.js'
import './webhook.js'
import './postback.js'
import './pixel.js'
import './health.js'
import './replayJob.js'

export const schema = lexicographicSortSchema(builder.toSchema())
