// Queries several pages share.
import { graphql } from '../graphql.ts'

export const CampaignsQuery = graphql(`
  query Campaigns {
    campaigns(first: 100, includeArchived: true) {
      edges {
        node {
          id
          name
          archivedAt
        }
      }
    }
  }
`)
