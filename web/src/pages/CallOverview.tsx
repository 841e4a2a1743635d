export function CallOverview({ uuid }: { uuid: string }) {
  return (
    <section className="page">
      <h1>CallOverview</h1>
    </section>
  )
}
