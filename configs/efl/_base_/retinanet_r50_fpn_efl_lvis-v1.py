# RetinaNet R50-FPN with EFL on LVIS v1 without a schedule: mmdet's RetinaNet (9 anchors, MaxIoU assignment, L1 box
# loss) with EqualizedFocalLoss (gamma_b 2, alpha 0.25, s 8), the classifier bias at EFL's prior 0.001, repeat factor
# sampling (t = 1e-3) and EFL's test settings (top 6,000 per level, NMS 0.5, 300 per image). The official EFL
# detector is ./atss_r50_fpn_efl_lvis-v1.py; this is the plain one-stage baseline detector. The LVIS v1 EFL RetinaNet
# configs pair it with ./lvis_2x_efl.py.
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py', './lvis-v1_detection.py']
model = dict(
    bbox_head=dict(
        num_classes={{_base_.num_classes}},
        loss_cls=dict(_delete_=True, type='EqualizedFocalLoss', num_classes={{_base_.num_classes}}, use_sigmoid=True,
                      focal_gamma=2.0, focal_alpha=0.25, scale_factor=8.0, num_levels=5, loss_weight=1.0),
        # official init_prior 0.001 (mmdet's RetinaHead default: 0.01)
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                      override=dict(type='Normal', name='retina_cls', std=0.01, bias_prob=0.001))),
    # LVIS protocol: keep low scores (official pre-NMS threshold 0), 300 detections per image
    test_cfg=dict(nms_pre=6000, score_thr=0.0001, max_per_img=300))
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.train_dataloader.dataset}}))
