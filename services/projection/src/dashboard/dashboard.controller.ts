import { Public } from '@flotilla/service-kit';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Read once: the page is static; its data comes from the query API and the live stream, with the token the user gives it.
const PAGE = fs.readFileSync(path.join(__dirname, 'dashboard.html'), 'utf8');

/** `GET /dashboard`: the ops dashboard (system overview and customer cards, updated live). */
@Public()
@ApiExcludeController()
@Controller()
export class DashboardController {
  @Get('dashboard')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): string {
    return PAGE;
  }
}
