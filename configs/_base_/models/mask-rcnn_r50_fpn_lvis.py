# mmdet's Mask R-CNN R50-FPN with the LVIS test protocol: keep detections down to score 1e-4 and up to 300 per image
# (lvis-api caps 300 per image across categories). Class counts are set by the dataset-specific configs.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
