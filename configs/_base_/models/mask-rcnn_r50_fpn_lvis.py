# mmdet's Mask R-CNN R50-FPN with the LVIS test protocol: keep detections down to score 1e-4 and up to 300 per image
# (lvis-api caps 300 per image across categories). ../mask-rcnn_r50_fpn_lvis-{v1,v0.5}.py size the heads from the data.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
