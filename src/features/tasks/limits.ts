/** Task field limits, shared by the rules (service) and the forms (views). */
export const TITLE_MAX = 150;
export const DESCRIPTION_MAX = 3000;
export const COMMENT_MAX = 3000;
