/**
 * Expunge content (Svix v1): delete a message's payload, or an attempt's response body, when it
 * should never have been kept. Both answer 204; the log keeps the rows and says the content was
 * expunged. Needs the delete permission.
 */
import { HeraldError } from '../../core/errors.js';
import { expungeAttemptContent, expungeMessageContent } from '../../store/expunge.js';
import { requireApp } from '../auth.js';
import type { Api, ApiDeps } from '../context.js';
import { AttemptParams } from '../schemas/attempts.js';
import { errorResponses, NoContent } from '../schemas/common.js';
import { MsgParams } from '../schemas/messages.js';
import { findMessage } from './attempts.js';

export default async function expungeRoutes(app: Api, deps: ApiDeps): Promise<void> {
  const { herald } = deps;
  const db = herald.pool;

  app.delete(
    '/app/:app_id/msg/:msg_id/content',
    {
      config: { permission: 'delete' },
      schema: {
        operationId: 'v1.message.expunge-content',
        tags: ['Message'],
        summary: "Delete a message's payload",
        description:
          'Replaces the stored payload with `{"expunged": true}`; the message, its deliveries and attempts stay in the log. ' +
          'Deliveries still waiting are not sent (skipped, "content expunged"), and the message cannot be resent or replayed.',
        params: MsgParams,
        response: { 204: NoContent, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const application = await requireApp(req, deps, req.params.app_id, 'delete');
      const msg = await findMessage(db, application, req.params.msg_id);
      if (!(await expungeMessageContent(db, application.id, msg.id, herald.clock.now()))) {
        throw new HeraldError('not_found', `message ${req.params.msg_id} not found`);
      }
      return reply.code(204).send();
    },
  );

  app.delete(
    '/app/:app_id/msg/:msg_id/attempt/:attempt_id/content',
    {
      config: { permission: 'delete' },
      schema: {
        operationId: 'v1.message-attempt.expunge-content',
        tags: ['Message Attempt'],
        summary: "Delete an attempt's response body",
        description: 'Replaces the stored response body with `EXPUNGED`, for a receiver that answered with something sensitive.',
        params: AttemptParams,
        response: { 204: NoContent, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const application = await requireApp(req, deps, req.params.app_id, 'delete');
      const msg = await findMessage(db, application, req.params.msg_id);
      if (!(await expungeAttemptContent(db, application.id, msg.id, req.params.attempt_id))) {
        throw new HeraldError('not_found', `attempt ${req.params.attempt_id} of message ${msg.id} not found`);
      }
      return reply.code(204).send();
    },
  );
}
