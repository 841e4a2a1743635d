export function Campaigns(_: { campaignId?: string }) {
  return (
    <section className="page">
      <h1>Campaigns</h1>
    </section>
  )
}
