// The tests wait on separate boxlite processes, not on this one's CPU: run more of them at once than there are cores.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
