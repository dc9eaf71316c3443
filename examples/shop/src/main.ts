/** The demo shop (being written). */
import { SDK_VERSION } from '@vigil/sdk';

export const shopSdkVersion = SDK_VERSION;
