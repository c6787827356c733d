/**
 * The service's icon: a page with three lines on the console's blue. SVG, so one file serves
 * every size; `/favicon.ico` answers the same bytes, which every current browser reads by its
 * Content-Type rather than its name.
 */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d4ed8"/><path d="M9 6h10l5 5v15H9z" fill="#fff"/><path d="M19 6v5h5z" fill="#bfd0f7"/><path d="M12 15h9M12 19h9M12 23h6" stroke="#1d4ed8" stroke-width="2"/></svg>`;
