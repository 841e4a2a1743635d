export function PostbackLog(_: { id?: string }) {
  return (
    <section className="page">
      <h1>PostbackLog</h1>
    </section>
  )
}
