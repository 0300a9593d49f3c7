using Boxlite.Runtime;
using Boxlite.WorkerSample;

// A generic host with Boxlite: AddBoxlite() registers the runtime and a hosted service that recovers the home on start
// (boxes left by a crashed run are reconciled) and stops this app's attached boxes on shutdown.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.Configure<TickOptions>(builder.Configuration.GetSection("Ticks"));
builder.Services
    .AddBoxlite(o =>
    {
        if (builder.Configuration["Boxlite:Home"] is { Length: > 0 } home)
        {
            o.HomeDirectory = Path.GetFullPath(home);
        }

        if (builder.Configuration["Boxlite:CgroupParent"] is { Length: > 0 } parent)
        {
            o.CgroupParent = parent;
        }
    })
    .AddLinux()
    .AddMacOS();
builder.Services.AddHostedService<TickWorker>();
await builder.Build().RunAsync();
