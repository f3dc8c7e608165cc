import type { CommandContext } from '../../../commands/context.js';

/** What every route module needs: the commands' context (routes decode, call a command, encode). */
export type RouteContext = CommandContext;
