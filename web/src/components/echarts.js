// SPDX-License-Identifier: Apache-2.0
// The parts of ECharts the pages use, registered once. Loaded by EChart.vue with a dynamic
// import, so ECharts is downloaded only by a page that shows a chart; add chart types here.
import { use, init } from 'echarts/core'
import { BarChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { init }
