# ECM on LVIS v0.5 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py with ECMLoss on the instance
# counts (fg_bg_ratio 6.3313, the official LVIS v1 value: none is published for v0.5), NormedLinear(tau=20) class
# logits, NormedConv2d(tau=20) mask logits and repeat factor sampling (t = 1e-3), as every official ECM run. The LVIS
# v0.5 configs of this folder pair it with ./lvis_{1x,2x}_ecm.py.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
        loss_cls=dict(_delete_=True, type='ECMLoss', num_classes={{_base_.num_classes}}, fg_bg_ratio=6.3313,
                      class_stats={{_base_.class_stats}})),
    mask_head=dict(predictor_cfg=dict(type='NormedConv2d', tempearture=20))))
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.lvis_train_dataset}}))
