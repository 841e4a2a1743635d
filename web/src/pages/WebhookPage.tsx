export function WebhookPage(_: { id?: string; campaignId?: string }) {
  return (
    <section className="page">
      <h1>WebhookPage</h1>
    </section>
  )
}
