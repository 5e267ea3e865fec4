// TAP request gate of the local balancer (nginx njs), run before any request reaches DaCHS 2.7.
// Issue 16: bounds what one request can cost DaCHS and what it can make DaCHS do.
// - QUERY: at most $tapgate_max_tokens ADQL tokens and $tapgate_max_depth nested parentheses
//   (DaCHS' parser costs ~1 ms per token: a 2,000-term OR took 10-20 s and starved the health probe);
// - UPLOAD: inline tables only (`name,param:part`); a URL would make DaCHS fetch it (SSRF, port scan);
// - EXECUTIONDURATION: 1..$tapgate_max_duration_s seconds (DaCHS accepts any value, 0 = unlimited);
// - the async job list is not served: DaCHS 2.7 lists every anonymous job to everybody, so a job is
//   reachable only through the URL its creator got (8 random characters);
// - DELETE of a job first aborts it (DaCHS' DELETE alone leaves the taprun worker and its PostgreSQL
//   query running): PHASE=ABORT makes the worker cancel its backend and exit, then the DELETE follows.

var ERROR_VOTABLE = '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">' +
    '<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">MESSAGE</INFO></RESOURCE></VOTABLE>\n';

function escapeXml(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function refuse(r, message) {
    r.headersOut['Content-Type'] = 'application/x-votable+xml';
    r.return(400, ERROR_VOTABLE.replace('MESSAGE', escapeXml(message)));
}

function decode(text) {
    try {
        return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch (e) {
        return text;
    }
}

// DALI parameter names are case-insensitive: every value under its upper-case name.
function addPairs(params, encoded) {
    if (!encoded) {
        return;
    }
    encoded.split('&').forEach(function (pair) {
        if (!pair) {
            return;
        }
        var at = pair.indexOf('=');
        var name = decode(at < 0 ? pair : pair.slice(0, at)).toUpperCase();
        var value = at < 0 ? '' : decode(pair.slice(at + 1));
        (params[name] = params[name] || []).push(value);
    });
}

function addMultipart(params, body, contentType) {
    var found = /boundary="?([^";]+)"?/i.exec(contentType);
    if (!found) {
        return;
    }
    body.split('--' + found[1]).forEach(function (part) {
        var split = part.indexOf('\r\n\r\n');
        if (split < 0) {
            return;
        }
        var name = /name="([^"]*)"/i.exec(part.slice(0, split));
        // Parts with a file name are uploaded tables, not parameters.
        if (!name || /filename=/i.test(part.slice(0, split))) {
            return;
        }
        var value = part.slice(split + 4).replace(/\r\n$/, '');
        (params[name[1].toUpperCase()] = params[name[1].toUpperCase()] || []).push(value);
    });
}

function requestParams(r) {
    var params = {};
    addPairs(params, r.variables.args);
    var body;
    try {
        body = r.requestText;
    } catch (e) {
        // Bodies above client_body_buffer_size are spooled to a file: nginx refuses larger ones first.
        return null;
    }
    if (body) {
        var contentType = r.headersIn['Content-Type'] || '';
        if (/^multipart\/form-data/i.test(contentType)) {
            addMultipart(params, body, contentType);
        } else {
            addPairs(params, body);
        }
    }
    return params;
}

// Tokens and parenthesis depth of ADQL text; string literals and delimited identifiers count as one.
function measure(query) {
    var tokens = 0, depth = 0, deepest = 0;
    var pattern = /'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|<=|>=|!=|<>|\|\||\S/g;
    var match;
    while ((match = pattern.exec(query)) !== null) {
        tokens += 1;
        if (match[0] === '(') {
            depth += 1;
            deepest = Math.max(deepest, depth);
        } else if (match[0] === ')') {
            depth -= 1;
        }
    }
    return {tokens: tokens, depth: deepest};
}

function problem(r, params) {
    var maxTokens = Number(r.variables.tapgate_max_tokens);
    var maxDepth = Number(r.variables.tapgate_max_depth);
    var maxDuration = Number(r.variables.tapgate_max_duration_s);
    var queries = params.QUERY || [];
    for (var i = 0; i < queries.length; i++) {
        var size = measure(queries[i]);
        if (size.tokens > maxTokens) {
            return 'QUERY has ' + size.tokens + ' ADQL tokens; this service accepts at most ' + maxTokens +
                ' (parsing cost grows with each): shorten the predicate, or upload the values as a table.';
        }
        if (size.depth > maxDepth) {
            return 'QUERY nests parentheses ' + size.depth + ' deep; at most ' + maxDepth + ' are accepted.';
        }
    }
    var uploads = params.UPLOAD || [];
    for (var j = 0; j < uploads.length; j++) {
        var items = uploads[j].split(';');
        for (var k = 0; k < items.length; k++) {
            var uri = items[k].slice(items[k].indexOf(',') + 1).trim();
            if (items[k].trim() && !/^param:/i.test(uri)) {
                return 'UPLOAD ' + items[k].trim() + ': only inline tables are accepted here ' +
                    '(UPLOAD=name,param:part with the VOTable as a multipart part named part), not URLs.';
            }
        }
    }
    var durations = params.EXECUTIONDURATION || [];
    for (var m = 0; m < durations.length; m++) {
        var seconds = Number(durations[m]);
        if (!(seconds >= 1 && seconds <= maxDuration)) {
            return 'EXECUTIONDURATION ' + durations[m] + ': must be between 1 and ' + maxDuration + ' seconds.';
        }
    }
    return null;
}

function sync(r) {
    var params = requestParams(r);
    if (params === null) {
        refuse(r, 'The request body is too large for this service.');
        return;
    }
    var found = problem(r, params);
    if (found) {
        refuse(r, found);
        return;
    }
    r.internalRedirect('@dachs_all');
}

function jobIdOf(uri) {
    var found = /\/async\/([A-Za-z0-9_]+)\/?$/.exec(uri);
    return found ? found[1] : null;
}

async function abortThenDelete(r, jobId) {
    var base = '/_tapgate_async/' + jobId;
    await r.subrequest(base + '/phase', {method: 'POST', body: 'PHASE=ABORT'});
    // The worker cancels its PostgreSQL query and leaves EXECUTING; wait for that (at most ~10 s).
    for (var attempt = 0; attempt < 20; attempt++) {
        var phase = await r.subrequest(base + '/phase', {method: 'GET'});
        if (phase.responseText.trim() !== 'EXECUTING') {
            break;
        }
        await new Promise(function (resolve) { setTimeout(resolve, 500); });
    }
    var deleted = await r.subrequest(base, {method: 'DELETE'});
    if (deleted.headersOut.Location) {
        r.headersOut.Location = deleted.headersOut.Location;
    }
    r.return(deleted.status, deleted.responseText || '');
}

function async_(r) {
    var params = requestParams(r);
    if (params === null) {
        refuse(r, 'The request body is too large for this service.');
        return;
    }
    var jobId = jobIdOf(r.uri);
    if (/\/async\/?$/.test(r.uri) && r.method === 'GET') {
        refuse(r, 'The job list is not served: every client keeps the URL of its own jobs.');
        return;
    }
    var found = problem(r, params);
    if (found) {
        refuse(r, found);
        return;
    }
    var action = (params.ACTION || [''])[0].toUpperCase();
    if (jobId && (r.method === 'DELETE' || (r.method === 'POST' && action === 'DELETE'))) {
        return abortThenDelete(r, jobId);
    }
    r.internalRedirect('@dachs_async');
}

export default {sync: sync, async: async_, measure: measure, problem: problem};
