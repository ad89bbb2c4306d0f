/** API Gateway (a REST or HTTP API's proxy integration) → the Milvus REST v2 router. */
import { apiHandler } from '../../lib/aws/api-role.ts';

export const handler = apiHandler();
