import type { CallService } from '../../../control/CallService.js';
import type { Policy } from '../../../control/Policy.js';

/** What every route module needs: the domain and its authorization policy. */
export interface RouteContext {
  service: CallService;
  policy: Policy;
}
