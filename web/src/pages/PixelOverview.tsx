export function PixelOverview({ id }: { id: string }) {
  return (
    <section className="page">
      <h1>PixelOverview</h1>
    </section>
  )
}
