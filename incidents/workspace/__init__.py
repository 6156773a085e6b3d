"""The analyst workspace on one incident: workflow (status, assignment, priority…), conversation,
tasks, links and merges, observables added by hand, the file page (``file_page`` read model,
``forms``, ``web``) and its REST routes (``api``, ``api_tasks``)."""
