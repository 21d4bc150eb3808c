/**
 * A one-click action on a list row (pause, archive, revoke): it toasts what it did, or its error in
 * red, so every row action reports back the same way.
 */
import { errorMessage } from './api';
import { useApp } from './context';

/** Returns `run(action, done)`: runs the action, toasts `done` or the error; resolves whether it worked. */
export function useToastAction(): (action: () => Promise<unknown>, done: string) => Promise<boolean> {
  const { toast } = useApp();
  return async (action, done) => {
    try {
      await action();
      toast(done);
      return true;
    } catch (e) {
      toast(errorMessage(e), 'bad');
      return false;
    }
  };
}
