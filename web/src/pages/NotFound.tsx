/** The page for a path that matches no route, or a page the token may not open. */
import { PageHeader } from '../components/PageHeader';
import { Link } from '../lib/router';

/** Not found / not allowed. */
export function NotFound({ home, notAllowed }: { home: string; notAllowed?: boolean }) {
  return (
    <section>
      <PageHeader title={notAllowed ? 'Not available' : 'Page not found'} />
      <p>{notAllowed ? 'Your token does not have permission to use this page.' : 'There is nothing at this address.'}</p>
      <p>
        <Link to={home}>Go to the start page</Link>
      </p>
    </section>
  );
}
