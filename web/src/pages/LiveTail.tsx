export function LiveTail() {
  return (
    <section className="page">
      <h1>LiveTail</h1>
    </section>
  )
}
