// The shell: sign-in, the API client for the signed-in key, the navigation and the pages (history URLs).
import { useCallback, useEffect, useMemo, useState } from 'react'
import { Provider } from 'urql'
import { Link, Redirect, Route, Switch, useLocation } from 'wouter'
import { createApiClient } from './client.ts'
import { CallLog } from './pages/CallLog.tsx'
import { CallOverview } from './pages/CallOverview.tsx'
import { Campaigns } from './pages/Campaigns.tsx'
import { LiveTail } from './pages/LiveTail.tsx'
import { PixelOverview } from './pages/PixelOverview.tsx'
import { PostbackLog } from './pages/PostbackLog.tsx'
import { SignIn } from './pages/SignIn.tsx'
import { WebhookPage } from './pages/WebhookPage.tsx'
import { checkKey, type Company, forgetKey, storedKey, storeKey, WRONG_KEY_MESSAGE } from './session.ts'
import { Loading } from './ui/States.tsx'

type SessionState = { state: 'checking' } | { state: 'signed-out'; message?: string } | { state: 'signed-in'; key: string; company: Company }

export function App() {
  const [session, setSession] = useState<SessionState>(() => (storedKey() ? { state: 'checking' } : { state: 'signed-out' }))

  useEffect(() => {
    const key = storedKey()
    if (session.state !== 'checking' || !key) return
    let live = true
    checkKey(key).then((check) => {
      if (!live) return
      if (check.ok) setSession({ state: 'signed-in', key, company: check.company })
      else {
        forgetKey()
        setSession({ state: 'signed-out', message: check.message })
      }
    })
    return () => {
      live = false
    }
  }, [session.state])

  const signIn = useCallback((key: string, company: Company) => {
    storeKey(key)
    setSession({ state: 'signed-in', key, company })
  }, [])
  const signOut = useCallback((message?: string) => {
    forgetKey()
    setSession({ state: 'signed-out', message })
  }, [])

  if (session.state === 'checking') return <Loading what="Signing in" />
  if (session.state === 'signed-out') return <SignIn onSignedIn={signIn} message={session.message} />
  return <SignedIn apiKey={session.key} company={session.company} signOut={signOut} />
}

function SignedIn({ apiKey, company, signOut }: { apiKey: string; company: Company; signOut: (message?: string) => void }) {
  const api = useMemo(() => createApiClient(apiKey, () => signOut(WRONG_KEY_MESSAGE)), [apiKey, signOut])
  useEffect(() => () => api.dispose(), [api])
  return (
    <Provider value={api.client}>
      <div className="shell">
        <Header company={company} signOut={() => signOut()} />
        <main id="main">
          <Switch>
            <Route path="/">
              <Redirect to="/calls" replace />
            </Route>
            <Route path="/calls" component={CallLog} />
            <Route path="/calls/:uuid">{(p) => <CallOverview uuid={p.uuid} />}</Route>
            <Route path="/pixels/:id">{(p) => <PixelOverview id={p.id} />}</Route>
            <Route path="/postbacks">{() => <PostbackLog />}</Route>
            <Route path="/postbacks/:id">{(p) => <PostbackLog id={p.id} />}</Route>
            <Route path="/webhooks">{() => <Campaigns />}</Route>
            <Route path="/campaigns/:id">{(p) => <Campaigns campaignId={p.id} />}</Route>
            <Route path="/campaigns/:id/webhooks/new">{(p) => <WebhookPage campaignId={p.id} />}</Route>
            <Route path="/webhooks/:id">{(p) => <WebhookPage id={p.id} />}</Route>
            <Route path="/live" component={LiveTail} />
            <Route>
              <section className="page">
                <h1>No page here</h1>
                <p>
                  This address is not a page of the dashboard. <Link href="/calls">Go to the call log</Link>.
                </p>
              </section>
            </Route>
          </Switch>
        </main>
      </div>
    </Provider>
  )
}

const NAV = [
  ['/calls', 'Calls'],
  ['/postbacks', 'Postbacks'],
  ['/webhooks', 'Webhooks'],
  ['/live', 'Live tail'],
] as const

function Header({ company, signOut }: { company: Company; signOut: () => void }) {
  const [location] = useLocation()
  return (
    <header className="top">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Link href="/calls" className="brand">
        Ringhook
      </Link>
      <nav aria-label="Pages">
        {NAV.map(([href, label]) => {
          const current = location === href || location.startsWith(`${href}/`) || (href === '/webhooks' && location.startsWith('/campaigns/'))
          return (
            <Link key={href} href={href} aria-current={current ? 'page' : undefined}>
              {label}
            </Link>
          )
        })}
        <a href="/graphql" target="_blank" rel="noreferrer">
          GraphiQL
        </a>
      </nav>
      <span className="company" title={`company ${company.id}`}>
        {company.name}
      </span>
      <button type="button" className="secondary" onClick={signOut}>
        Sign out
      </button>
    </header>
  )
}
