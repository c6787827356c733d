import type { Scenario } from '../lib/types';
import { hotRead } from './1-hot-read';
import { chainOverhead } from './2-chain-overhead';
import { wsFanout } from './3-ws-fanout';
import { backgroundTasks } from './4-background-tasks';
import { schedules } from './5-schedules';
import { sizeStart } from './6-size-start';
import { mlRecommend } from './7-ml-recommend';
import { scaling } from './8-scaling';

/** In issue order. Each module bounds its own run time (`budgetMs`). */
export const scenarios: Scenario[] = [hotRead, chainOverhead, wsFanout, backgroundTasks, schedules, sizeStart, mlRecommend, scaling];
