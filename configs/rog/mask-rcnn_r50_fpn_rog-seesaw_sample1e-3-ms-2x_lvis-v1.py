# mask-rcnn_r50_fpn_rog-seesaw_random-ms-1x_lvis-v1 with repeat factor sampling (t = 1e-3), 2x schedule (24 epochs).
_base_ = './mask-rcnn_r50_fpn_rog-seesaw_random-ms-2x_lvis-v1.py'
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.lvis_train_dataset}}))
