using Boxlite.Runtime;
using Boxlite.WorkerSample;

// A generic host with Boxlite: AddBoxlite() registers the runtime and a hosted service that recovers the home on start
// (boxes left by a crashed run are reconciled) and stops this app's attached boxes on shutdown. Its settings come from
// the "Boxlite" section (e.g. --Boxlite:HomeDirectory=/srv/boxes --Boxlite:Linux:CgroupParent=myapp), checked at start.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.Configure<TickOptions>(builder.Configuration.GetSection("Ticks"));
builder.Services
    .AddBoxlite(builder.Configuration.GetSection("Boxlite"))
    .AddLinux()
    .AddMacOS();
builder.Services.AddHostedService<TickWorker>();
await builder.Build().RunAsync();
